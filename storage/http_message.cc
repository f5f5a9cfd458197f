#include "storage/http_message.h"

namespace cricket::storage {

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

}  // namespace cricket::storage
