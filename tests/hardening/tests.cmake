# README.md's example commands run in order in a temporary folder (tests/hardening/readme_examples.py:
# heavy knobs turned down; commands needing ../shared skipped when it is absent).
if(KWS_PYTHON3)
  add_test(NAME readme.examples
           COMMAND ${KWS_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/readme_examples.py --kws ${KWS_BIN}
                   --source ${CMAKE_SOURCE_DIR} --shared ${KWS_SHARED_DATA})
  set_tests_properties(readme.examples PROPERTIES LABELS hardening TIMEOUT 1800)
endif()
