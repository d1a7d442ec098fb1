// PNG output (libpng) and colormaps for report images.
//
//   std::vector<uint8_t> rgb(w * h * 3);  // row 0 = top of the image
//   ... fill with Colormap(t, Colormap::kViridis) ...
//   WritePng("out.png", w, h, rgb);       // atomic (temp file + rename)
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace kws {

// Encodes 8-bit RGB (width*height*3 bytes, rows top to bottom) as PNG bytes.
std::string EncodePng(int width, int height, const std::vector<uint8_t>& rgb);

// Writes EncodePng(...) to `path` atomically. Throws kws::Error naming the path.
void WritePng(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb);

// Perceptual colormaps (matplotlib's viridis / magma, interpolated between 10 stops).
enum class ColormapKind { kViridis, kMagma };
// t in [0, 1] (clamped; NaN -> 0) -> RGB.
std::array<uint8_t, 3> Colormap(double t, ColormapKind kind = ColormapKind::kViridis);

// A [rows x cols] row-major matrix (e.g. frames x bins) as an image with
// rows on x (left to right) and cols on y (col 0 at the bottom), each cell
// scale_x x scale_y pixels, colours from min..max of the data.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};
Image HeatmapImage(const float* data, int rows, int cols, int scale_x, int scale_y,
                   ColormapKind kind = ColormapKind::kViridis);

}  // namespace kws
