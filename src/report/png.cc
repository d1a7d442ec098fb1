#include "report/png.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>

#include "util/error.h"
#include "util/fs.h"

namespace kws {
namespace {

void AppendBytes(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), n);
}
void NoFlush(png_structp) {}

// Only C calls between setjmp and the end of this function (no C++ objects
// to unwind past on a libpng error).
bool EncodeC(int width, int height, const uint8_t* rgb, std::string* out) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, AppendBytes, NoFlush);
  png_set_IHDR(png, info, png_uint_32(width), png_uint_32(height), 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) png_write_row(png, const_cast<png_bytep>(rgb + size_t(y) * size_t(width) * 3));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

// 10 stops at t = i/9 (the 10-colour viridis / magma palettes).
const uint8_t kViridis[10][3] = {{0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x4a, 0x89}, {0x31, 0x68, 0x8e},
                                 {0x26, 0x82, 0x8e}, {0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6d, 0xcd, 0x59},
                                 {0xb4, 0xde, 0x2c}, {0xfd, 0xe7, 0x25}};
const uint8_t kMagma[10][3] = {{0x00, 0x00, 0x04}, {0x18, 0x0f, 0x3e}, {0x45, 0x10, 0x77}, {0x72, 0x1f, 0x81},
                               {0x9f, 0x2f, 0x7f}, {0xcd, 0x40, 0x71}, {0xf1, 0x60, 0x5d}, {0xfd, 0x95, 0x67},
                               {0xfe, 0xc9, 0x8d}, {0xfc, 0xfd, 0xbf}};

}  // namespace

std::string EncodePng(int width, int height, const std::vector<uint8_t>& rgb) {
  if (width <= 0 || height <= 0 || width > (1 << 16) || height > (1 << 16))
    throw UsageError("png: bad image size " + std::to_string(width) + "x" + std::to_string(height));
  if (rgb.size() != size_t(width) * size_t(height) * 3)
    throw InternalError("png: pixel buffer has " + std::to_string(rgb.size()) + " bytes, expected " +
                        std::to_string(size_t(width) * size_t(height) * 3));
  std::string out;
  if (!EncodeC(width, height, rgb.data(), &out)) throw InternalError("png: libpng failed to encode the image");
  return out;
}

void WritePng(const std::string& path, int width, int height, const std::vector<uint8_t>& rgb) {
  AtomicWriteFile(path, EncodePng(width, height, rgb));
}

std::array<uint8_t, 3> Colormap(double t, ColormapKind kind) {
  const uint8_t(*stops)[3] = kind == ColormapKind::kMagma ? kMagma : kViridis;
  if (!(t >= 0)) t = 0;  // also NaN
  if (t > 1) t = 1;
  const double x = t * 9.0;
  const int i = std::min(8, int(x));
  const double f = x - i;
  std::array<uint8_t, 3> c{};
  for (int k = 0; k < 3; ++k) c[size_t(k)] = uint8_t(std::lround(stops[i][k] + f * (stops[i + 1][k] - stops[i][k])));
  return c;
}

Image HeatmapImage(const float* data, int rows, int cols, int scale_x, int scale_y, ColormapKind kind) {
  if (rows <= 0 || cols <= 0) throw UsageError("png: empty matrix");
  scale_x = std::max(1, scale_x);
  scale_y = std::max(1, scale_y);
  const size_t n = size_t(rows) * size_t(cols);
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; ++i)
    if (std::isfinite(data[i])) lo = std::min(lo, data[i]), hi = std::max(hi, data[i]);
  const double range = hi > lo ? double(hi) - lo : 1.0;
  Image img;
  img.width = rows * scale_x;
  img.height = cols * scale_y;
  img.rgb.resize(size_t(img.width) * size_t(img.height) * 3);
  for (int y = 0; y < img.height; ++y) {
    const int c = cols - 1 - y / scale_y;  // column 0 (lowest frequency) at the bottom
    for (int x = 0; x < img.width; ++x) {
      const int r = x / scale_x;
      const float v = data[size_t(r) * size_t(cols) + size_t(c)];
      auto rgb = Colormap(std::isfinite(v) ? (double(v) - lo) / range : 0.0, kind);
      uint8_t* p = img.rgb.data() + (size_t(y) * size_t(img.width) + size_t(x)) * 3;
      p[0] = rgb[0], p[1] = rgb[1], p[2] = rgb[2];
    }
  }
  return img;
}

}  // namespace kws
