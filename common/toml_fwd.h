#pragma once

// toml++'s table type, declared without toml++'s header (~17k lines) so that a module's settings
// header can declare its section parser and stay cheap for every consumer of the settings
// struct. Only the parsers' .cc files include common/toml_section.h, which checks that this
// declaration matches the installed toml++ (major version 3).

namespace toml {
inline namespace v3 {
class table;
}  // namespace v3
}  // namespace toml
