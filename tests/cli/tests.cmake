# CLI behaviour checked through the real binary.
add_test(NAME cli.version COMMAND kws --version)
set_tests_properties(cli.version PROPERTIES PASS_REGULAR_EXPRESSION "^kws [0-9]+\\.[0-9]+\\.[0-9]+")
add_test(NAME cli.help COMMAND kws --help)
set_tests_properties(cli.help PROPERTIES PASS_REGULAR_EXPRESSION "Exit codes")
add_test(NAME cli.unknown_flag COMMAND kws --no-such-flag)
set_tests_properties(cli.unknown_flag PROPERTIES WILL_FAIL TRUE)
