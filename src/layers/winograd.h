// Winograd F(2x2, 3x3) convolution for 3x3 kernels with stride 1 (Lavin &
// Gray 2015): 16 multiplies per 2x2 output tile and channel pair instead of 36.
//
//   U = G g G^T        per (ic, oc)      G   = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1]
//   V = B^T d B        per tile, ic      B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   M[xi] = V[xi] U[xi]  (16 GEMMs: tiles x IC times IC x OC)
//   Y = A^T M A        per tile, oc      A^T = [1 1 1 0; 0 1 -1 -1]
//
// Used by conv2d's forward and its stride-1 input gradient (a 3x3 conv of dout).
#pragma once
#include <vector>

namespace kws {

struct WinogradScratch {
  std::vector<float> pad, V, M, tmp;
};

// Kernel transform: w (3,3,IC,OC) HWIO -> U (16, IC, OC).
void winograd_kernel_transform(float* U, const float* w, int ic, int oc);

// One sample: out (OH,OW,OC) = conv3x3(x (IH,IW,IC), padding before pt/pl, stride 1) + bias.
// Taps outside x read 0 (TF SAME/VALID are both expressed by pt/pl and OH/OW).
void winograd_conv3x3(float* out, const float* x, int ih, int iw, int ic, int pt, int pl, int oh, int ow, int oc,
                      const float* U, const float* bias, WinogradScratch& s);

}  // namespace kws
