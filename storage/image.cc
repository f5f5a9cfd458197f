#include "storage/image.h"

#include <charconv>

namespace cricket::storage {

ImageUser ParseImageUser(const std::string& user) {
  ImageUser out;
  std::string name = user.substr(0, user.find(':'));
  if (name.empty()) {
    return out;
  }
  int64_t uid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), uid);
  if (ec == std::errc() && end == name.data() + name.size() && uid >= 0) {
    out.uid = uid;
  } else {
    out.username = name;
  }
  return out;
}

}  // namespace cricket::storage
