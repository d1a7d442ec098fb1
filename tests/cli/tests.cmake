# CLI behaviour checked through the real binary.
add_test(NAME cli.version COMMAND kws --version)
set_tests_properties(cli.version PROPERTIES PASS_REGULAR_EXPRESSION "^kws [0-9]+\\.[0-9]+\\.[0-9]+")
add_test(NAME cli.help COMMAND kws --help)
set_tests_properties(cli.help PROPERTIES PASS_REGULAR_EXPRESSION "Exit codes")
add_test(NAME cli.unknown_flag COMMAND kws --no-such-flag)
set_tests_properties(cli.unknown_flag PROPERTIES WILL_FAIL TRUE)
# `kws help` is the top-level help (not the help of `help` itself); `kws help CMD [SUB]` is CMD's.
add_test(NAME cli.help_command COMMAND kws help)
set_tests_properties(cli.help_command PROPERTIES PASS_REGULAR_EXPRESSION "Usage: kws \\[OPTIONS\\] SUBCOMMAND.*stream-eval")
add_test(NAME cli.help_train COMMAND kws help train)
set_tests_properties(cli.help_train PROPERTIES PASS_REGULAR_EXPRESSION "Usage: kws train \\[OPTIONS\\]")
add_test(NAME cli.help_nested COMMAND kws help data stats)
set_tests_properties(cli.help_nested PROPERTIES PASS_REGULAR_EXPRESSION "Usage: kws data stats \\[OPTIONS\\] \\[dir\\.\\.\\.\\]")
add_test(NAME cli.help_unknown COMMAND kws help nope)
set_tests_properties(cli.help_unknown PROPERTIES WILL_FAIL TRUE)
# kws config keys: every recipe setting with its default, from the stages' tables.
add_test(NAME cli.config_keys COMMAND kws config keys)
set_tests_properties(cli.config_keys PROPERTIES PASS_REGULAR_EXPRESSION "prune\\.final_sparsity +0\\.85 +sparsity reached")
