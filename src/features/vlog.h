// Vectorized natural log for the log-mel: out[i] = float(log(double(x[i]) + offset)).
//
// log(y) = e ln 2 + log(m), y = m 2^e with m in [sqrt(1/2), sqrt(2)),
// log(m) = 2 atanh(s) = 2 (s + s^3/3 + ... + s^11/11), s = (m - 1)/(m + 1), |s| <= 0.1716,
// all in double, 4 values per step (the truncation error, < 2e-10 relative, and the
// double rounding are far below the float result's half ulp, so the result is
// the float rounding of the true log except in rare ties). Values that are not
// positive normal finite doubles (0, denormals, inf, NaN) take std::log.
// Every value goes through the same code wherever it sits in the array (a partial
// last group is padded), so results do not depend on n or the position.
#pragma once

namespace kws {

void LogOffset(const float* x, double offset, float* out, int n);

}  // namespace kws
