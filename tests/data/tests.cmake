# tests/data: the official SHA-1 split rule cross-checked against Python's hashlib.
if(KWS_PYTHON3 AND TARGET test_data)
  kws_runnable(test_data _test_data_cmd)
  add_test(NAME data.split_vs_python
           COMMAND ${KWS_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/split_check.py ${_test_data_cmd} ${KWS_SHARED_DATA})
  set_tests_properties(data.split_vs_python PROPERTIES LABELS data TIMEOUT 60)
endif()
