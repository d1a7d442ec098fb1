# `kws invoke` through the real binary, on the committed fuzz-corpus models.
set(_rt_models ${CMAKE_SOURCE_DIR}/fuzz/corpus/model)
set(_rt_zeros ${CMAKE_SOURCE_DIR}/tests/runtime/data/zeros64.bin)  # input of int8.tflite: [1,8,8,1] int8

add_test(NAME runtime.invoke_int8 COMMAND kws invoke --model ${_rt_models}/int8.tflite --input-raw ${_rt_zeros})
set_tests_properties(runtime.invoke_int8 PROPERTIES PASS_REGULAR_EXPRESSION "^\\[-?[0-9]+,-?[0-9]+,-?[0-9]+\\]")

add_test(NAME runtime.invoke_info_json COMMAND kws invoke --model ${_rt_models}/hybrid.tflite --info --json)
set_tests_properties(runtime.invoke_info_json PROPERTIES PASS_REGULAR_EXPRESSION "\"kind\": \"hybrid\"")
add_test(NAME runtime.invoke_info_arena COMMAND kws invoke --model ${_rt_models}/hybrid.tflite --info --json)
set_tests_properties(runtime.invoke_info_arena PROPERTIES PASS_REGULAR_EXPRESSION "\"arena_bytes\": [1-9][0-9]*,")

# Wrong input size: exit code 2 and a message with expected vs got.
add_test(NAME runtime.invoke_wrong_size COMMAND sh -c
  "out=$(${KWS_BIN} invoke --model ${_rt_models}/float.tflite --input-raw ${_rt_zeros} 2>&1); echo \"$out exit=$?\"")
set_tests_properties(runtime.invoke_wrong_size PROPERTIES PASS_REGULAR_EXPRESSION "64 bytes.*needs 256 exit=2")

# Broken model: exit code 2, the path and the problem named.
add_test(NAME runtime.invoke_broken_model COMMAND sh -c
  "out=$(${KWS_BIN} invoke --model ${_rt_models}/broken_truncated.tflite --info 2>&1); echo \"$out exit=$?\"")
set_tests_properties(runtime.invoke_broken_model PROPERTIES
  PASS_REGULAR_EXPRESSION "broken_truncated.tflite: corrupt .tflite file.* exit=2")
