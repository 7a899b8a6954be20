// Asking the Go oracle (tests/go/godiff) from a differential test: requests
// go out as lines of an operation and hex-encoded arguments, answers come
// back as one JSON object per request with hex-encoded strings. The test
// binary is compiled with GOFER_GODIFF, the oracle's path.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace gofer::godiff {

inline std::string to_hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out.push_back(kHex[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kHex[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

inline std::string from_hex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// One request to the oracle: an operation and its arguments.
struct Request {
  std::string op;
  std::vector<std::string> args;
};

// Runs the oracle over all requests at once (one process), returning one
// JSON object per request (fewer if it failed; callers check the count).
inline std::vector<nlohmann::json> ask_go(const std::vector<Request>& requests) {
  // A file of its own: CTest runs the tests of a binary in parallel.
  std::string input = testing::TempDir() + "godiff_XXXXXX";
  const int fd = ::mkstemp(input.data());
  if (fd < 0) return {};
  ::close(fd);
  {
    std::ofstream f(input);
    for (const Request& r : requests) {
      f << r.op;
      for (const std::string& a : r.args) f << ' ' << to_hex(a);
      f << '\n';
    }
  }
  const std::string command = std::string(GOFER_GODIFF) + " < " + input;
  std::vector<nlohmann::json> out;
  {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    std::string line;
    char buf[4096];
    while (pipe && std::fgets(buf, sizeof buf, pipe.get()) != nullptr) {
      line += buf;
      if (!line.empty() && line.back() == '\n') {
        out.push_back(nlohmann::json::parse(line));
        line.clear();
      }
    }
  }
  ::unlink(input.c_str());
  return out;
}

// The hex-encoded string member `name` of an answer, decoded.
inline std::string field(const nlohmann::json& j, const char* name) {
  return from_hex(j.at(name).get<std::string>());
}

}  // namespace gofer::godiff
