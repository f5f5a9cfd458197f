#pragma once

#include <string_view>

namespace cricket::cri::streaming::spdy {

// The 1423-byte zlib dictionary of SPDY/3 header compression (spec section 2.6.10.1).
std::string_view HeaderDictionary();

}  // namespace cricket::cri::streaming::spdy
