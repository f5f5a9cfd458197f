#pragma once

// `cricketctl images import|export|pull` (cricket.admin.v1.Images), for cricketctl_main.cc.

#include <string>
#include <vector>

namespace cricket::cri {

// `args` after "images". Exit status: 0, 1 when cricketd or a file fails (printed), 2 for bad
// usage.
int ImagesCommand(const std::string& socket, const std::vector<std::string>& args);

}  // namespace cricket::cri
