#pragma once

// cricket-default: the AppArmor profile of RuntimeDefault containers, shipped inside cricketd
// and loaded with apparmor_parser when a node lacks it (cri/apparmor_profiles.h).

#include <string_view>

namespace cricket::cri {

inline constexpr std::string_view kDefaultAppArmorProfile = "cricket-default";

// The profile's source text, as apparmor_parser reads it on stdin. It includes nothing, so it
// loads on a node whose /etc/apparmor.d is empty.
std::string_view DefaultAppArmorProfileText();

}  // namespace cricket::cri
