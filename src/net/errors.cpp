// The net layer's error category: Go's messages for Go's errors.
#include "gofer/net.h"

#include <string>
#include <system_error>

namespace gofer::net {
namespace {

class NetCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gofer.net"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::eof:
        return "EOF";
      case errc::closed:
        return "use of closed network connection";
      case errc::timeout:
        return "i/o timeout";
      case errc::bad_address:
        return "invalid address";
      case errc::unknown_network:
        return "unknown network";
      case errc::no_such_host:
        return "no such host";
      case errc::dns_failure:
        return "name resolution failed";
      case errc::not_listening:
        return "not a listening stream socket";
    }
    std::string s = "unknown net error ";
    s += std::to_string(value);
    return s;
  }

  // errc::timeout is also std::errc::timed_out, so generic code that knows
  // only std::errc recognises it.
  std::error_condition default_error_condition(int value) const noexcept override {
    if (static_cast<errc>(value) == errc::timeout) return std::errc::timed_out;
    return {value, *this};
  }
};

}  // namespace

const std::error_category& net_category() noexcept {
  static const NetCategory category;
  return category;
}

}  // namespace gofer::net
