#pragma once

// Coroutines that move bytes between a local fd (a pipe to a process, or a TCP socket to a
// forwarded port) and a ByteChannel, with backpressure both ways: each waits for the other side
// to accept a chunk before reading the next, so neither buffers more than one chunk.

#include <boost/asio/posix/stream_descriptor.hpp>

#include "cri/streaming/byte_channel.h"

namespace cricket::cri::streaming {

// Reads `fd` until EOF and writes it to `channel`, then half-closes the channel. If the
// channel fails first, stops reading. Returns when done either way.
awaitable<void> PumpFdToChannel(asio::posix::stream_descriptor& fd, ByteChannel& channel);

// Reads `channel` until EOF and writes it to `fd`; then, for a socket, shuts down its write side,
// for a pipe closes it, so the process sees EOF. If `fd` fails first, stops reading.
awaitable<void> PumpChannelToFd(ByteChannel& channel, asio::posix::stream_descriptor& fd);

}  // namespace cricket::cri::streaming
