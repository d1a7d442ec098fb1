// Test-only reference loader: runs a .tflite file with Arm NN's TfLite parser on the CpuRef backend
// (Debian libarmnntfliteparser-dev 20.08), an implementation independent of TensorFlow's.
//
//   armnn_run MODEL.tflite INPUT.raw [OUTPUT.json]
//
// INPUT.raw holds the raw little-endian bytes of input tensor 0 in its own type (float32 or int8), or K
// such inputs back to back (the network then runs K times).
// Output: {"type": "float32"|"int8"|..., "shape": [...], "batches": K, "values": [...]} (raw values of
// output 0, the K runs concatenated).
// Exit codes: 0 ok, 1 usage, 2 model rejected / bad input, 3 internal error.
#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<uint8_t> ReadAll(const char* path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(std::string(path) + ": cannot read");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

const char* TypeName(armnn::DataType t) {
  switch (t) {
    case armnn::DataType::Float32: return "float32";
    case armnn::DataType::QAsymmS8: return "int8";
    case armnn::DataType::QSymmS8: return "int8";
    case armnn::DataType::QAsymmU8: return "uint8";
    case armnn::DataType::Signed32: return "int32";
    default: return "other";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: armnn_run MODEL.tflite INPUT.raw [OUTPUT.json]\n");
    return 1;
  }
  try {
    armnn::ConfigureLogging(false, false, armnn::LogSeverity::Fatal);
    auto parser = armnnTfLiteParser::ITfLiteParser::Create();
    std::vector<uint8_t> model = ReadAll(argv[1]);
    armnn::INetworkPtr network{nullptr, [](armnn::INetwork*) {}};
    try {
      network = parser->CreateNetworkFromBinary(model);
    } catch (const armnn::Exception& e) {
      std::fprintf(stderr, "armnn_run: %s: rejected by the Arm NN TfLite parser: %s\n", argv[1], e.what());
      return 2;
    }
    auto in_names = parser->GetSubgraphInputTensorNames(0);
    auto out_names = parser->GetSubgraphOutputTensorNames(0);
    auto in_bind = parser->GetNetworkInputBindingInfo(0, in_names.at(0));
    auto out_bind = parser->GetNetworkOutputBindingInfo(0, out_names.at(0));

    armnn::IRuntime::CreationOptions ro;
    armnn::IRuntimePtr runtime = armnn::IRuntime::Create(ro);
    std::vector<std::string> messages;
    armnn::IOptimizedNetworkPtr opt{nullptr, [](armnn::IOptimizedNetwork*) {}};
    try {
      opt = armnn::Optimize(*network, {armnn::Compute::CpuRef}, runtime->GetDeviceSpec(),
                            armnn::OptimizerOptions(), armnn::Optional<std::vector<std::string>&>(messages));
    } catch (const armnn::Exception& e) {
      std::string all = e.what();
      for (const auto& m : messages) all += " | " + m;
      std::fprintf(stderr, "armnn_run: %s: CpuRef cannot run this network: %s\n", argv[1], all.c_str());
      return 2;
    }
    if (!opt) {
      std::string all;
      for (const auto& m : messages) all += " | " + m;
      std::fprintf(stderr, "armnn_run: %s: CpuRef cannot run this network%s\n", argv[1], all.c_str());
      return 2;
    }
    armnn::NetworkId id;
    std::string err;
    armnn::INetworkProperties props;
    if (runtime->LoadNetwork(id, std::move(opt), err, props) != armnn::Status::Success) {
      std::fprintf(stderr, "armnn_run: %s: LoadNetwork failed: %s\n", argv[1], err.c_str());
      return 2;
    }

    std::vector<uint8_t> input = ReadAll(argv[2]);
    const armnn::TensorInfo& in_info = in_bind.second;
    const size_t in_bytes = in_info.GetNumBytes();
    if (input.empty() || input.size() % in_bytes != 0) {
      std::fprintf(stderr, "armnn_run: %s: %zu bytes, the input tensor needs a multiple of %zu\n", argv[2],
                   input.size(), in_bytes);
      return 2;
    }
    const size_t batches = input.size() / in_bytes;
    const armnn::TensorInfo& out_info = out_bind.second;
    const size_t out_bytes = out_info.GetNumBytes();
    std::vector<uint8_t> output(out_bytes * batches);
    for (size_t b = 0; b < batches; ++b) {
      armnn::InputTensors inputs{{in_bind.first, armnn::ConstTensor(in_info, input.data() + b * in_bytes)}};
      armnn::OutputTensors outputs{{out_bind.first, armnn::Tensor(out_info, output.data() + b * out_bytes)}};
      if (runtime->EnqueueWorkload(id, inputs, outputs) != armnn::Status::Success) {
        std::fprintf(stderr, "armnn_run: %s: EnqueueWorkload failed\n", argv[1]);
        return 2;
      }
    }

    std::ostringstream os;
    os.precision(9);
    os << "{\"type\":\"" << TypeName(out_info.GetDataType()) << "\",\"shape\":[";
    const armnn::TensorShape& shape = out_info.GetShape();
    for (unsigned d = 0; d < shape.GetNumDimensions(); ++d) os << (d ? "," : "") << shape[d];
    os << "],\"batches\":" << batches << ",\"values\":[";
    const unsigned n = out_info.GetNumElements() * unsigned(batches);
    for (unsigned i = 0; i < n; ++i) {
      if (i) os << ",";
      switch (out_info.GetDataType()) {
        case armnn::DataType::Float32: {
          float v;
          std::memcpy(&v, output.data() + 4 * i, 4);
          os << v;
          break;
        }
        case armnn::DataType::QAsymmS8:
        case armnn::DataType::QSymmS8: os << int(int8_t(output[i])); break;
        case armnn::DataType::QAsymmU8: os << int(output[i]); break;
        default: {
          int32_t v;
          std::memcpy(&v, output.data() + 4 * i, 4);
          os << v;
        }
      }
    }
    os << "]}\n";
    if (argc > 3) {
      std::ofstream f(argv[3]);
      f << os.str();
      if (!f) throw std::runtime_error(std::string(argv[3]) + ": cannot write");
    } else {
      std::cout << os.str();
    }
    return 0;
  } catch (const armnn::Exception& e) {
    std::fprintf(stderr, "armnn_run: %s: %s\n", argv[1], e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "armnn_run: %s\n", e.what());
    return 3;
  }
}
