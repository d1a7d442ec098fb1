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

# --info lists the operators kws runs (from the registry).
add_test(NAME runtime.invoke_info_supported_ops COMMAND kws invoke --model ${_rt_models}/int8.tflite --info --json)
set_tests_properties(runtime.invoke_info_supported_ops PROPERTIES
  PASS_REGULAR_EXPRESSION "\"supported_ops\": \\[[^]]*\"CALL_ONCE\"[^]]*\"HARD_SWISH\"")

# --steps: a streaming model (y = x + the previous x, state starting at [10, 20]; a committed fuzz seed built by
# ForeignModels.StreamingStateAgainstLiteRt) on 8 zero inputs: the first output shows the initial state.
add_test(NAME runtime.invoke_steps_carry_state COMMAND kws invoke --model ${_rt_models}/flatc_stream_float.tflite
  --input-raw ${_rt_zeros} --steps)
set_tests_properties(runtime.invoke_steps_carry_state PROPERTIES PASS_REGULAR_EXPRESSION "^\\[\\[10,20\\],\n \\[0,0\\],")
