#include "cri/streaming/pumps.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <boost/asio/write.hpp>
#include <vector>

namespace cricket::cri::streaming {

namespace {

constexpr size_t kChunk = 64 * 1024;

void CloseOutput(asio::posix::stream_descriptor& fd) {
  struct stat st {};
  boost::system::error_code ec;
  if (fd.is_open() && ::fstat(fd.native_handle(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    ::shutdown(fd.native_handle(), SHUT_WR);  // half-close: the reply may still come back
    return;
  }
  fd.close(ec);
}

}  // namespace

awaitable<void> PumpFdToChannel(asio::posix::stream_descriptor& fd, ByteChannel& channel) {
  std::vector<char> buf(kChunk);
  for (;;) {
    boost::system::error_code ec;
    size_t n = co_await fd.async_read_some(asio::buffer(buf),
                                           asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      break;  // EOF, or the fd failed (EIO from a pty whose process exited): end of output
    }
    auto written = co_await channel.Write(std::string_view(buf.data(), n));
    if (!written.ok()) {
      fd.close(ec);  // the client is gone: the process gets EPIPE, the socket is released
      co_return;
    }
  }
  channel.CloseWrite();
}

awaitable<void> PumpChannelToFd(ByteChannel& channel, asio::posix::stream_descriptor& fd) {
  for (;;) {
    auto chunk = co_await channel.Read();
    if (!chunk.ok()) {
      boost::system::error_code ec;
      fd.close(ec);  // reset, not EOF: drop the connection or pipe entirely
      co_return;
    }
    if (chunk->empty()) {
      break;
    }
    boost::system::error_code ec;
    co_await asio::async_write(fd, asio::buffer(*chunk),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      break;  // the process closed its stdin, or the socket went away
    }
  }
  CloseOutput(fd);
}

}  // namespace cricket::cri::streaming
