#pragma once

// Small text splitting for kernel files (/proc, cgroupfs) and logs, without iostreams: a
// stream's first use initialises the C++ locale machinery, ~0.3 MiB of libstdc++ code that the
// statically linked shim would keep resident for nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cricket {

// Every piece between separators, empty ones included: Split("a,,b", ',') = {"a", "", "b"}.
std::vector<std::string> Split(std::string_view text, char sep);

// The whitespace-separated words of `text`, as `stream >> word` would read them.
std::vector<std::string_view> Words(std::string_view text);

// A decimal unsigned number filling all of `text`; nullopt otherwise.
std::optional<uint64_t> ParseUint64(std::string_view text);

// `text` without the spaces and line feeds at its end ("eth0 \n" -> "eth0"): a value read from
// a file or a command's output.
std::string_view TrimEnd(std::string_view text);

// `path` cleaned lexically, like Go's path.Clean: repeated and trailing slashes, "." and ".."
// components removed ("/a/../proc/" -> "/proc", "//proc" -> "/proc"). ".." at the root stays at
// the root, as the kernel resolves it. Symlinks are not looked at.
std::string CleanPath(std::string_view path);

}  // namespace cricket
