# Parity of `kws features --json` with the NumPy reference (tests/features/reference.py),
# one CTest per parameter set; real Speech Commands clips when KWS_SHARED_DATA has them.
# Both FFT backends (fftw, kissfft) are double precision: every case is checked at 1e-4.
foreach(set mel20 mel40 mfcc10 mfcc13)
  add_test(NAME features_parity_${set}
           COMMAND ${KWS_PYTHON3} ${CMAKE_SOURCE_DIR}/tests/features/parity.py
                   --kws ${KWS_BIN} --set ${set} --data ${KWS_SHARED_DATA}/speech_commands)
  set_tests_properties(features_parity_${set} PROPERTIES LABELS features TIMEOUT 120)
endforeach()
