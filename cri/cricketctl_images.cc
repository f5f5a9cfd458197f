// cricketctl images: the client side of cricket.admin.v1.Images.
//   import FILE|-      streams the archive (stdin for "-") to cricketd, prints what it imported
//   export REF FILE|-  writes the OCI archive (stdout for "-"; a file appears only when complete)
//   pull REF           on a terminal, one progress line per layer redrawn in place (bytes,
//                      rate); otherwise a plain line per finished layer

#include "cri/cricketctl_images.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include <grpcpp/grpcpp.h>

#include "cricket/admin/v1/images.grpc.pb.h"

namespace cricket::cri {
namespace {

namespace admin_v1 = ::cricket::admin::v1;

constexpr size_t kChunkBytes = 1 << 20;

int Failed(const grpc::Status& status) {
  std::fprintf(stderr, "cricketctl: %s (code %d)\n", status.error_message().c_str(),
               static_cast<int>(status.error_code()));
  return 1;
}

int FileFailed(const std::string& what, const std::string& path) {
  std::fprintf(stderr, "cricketctl: %s %s: %s\n", what.c_str(), path.c_str(), std::strerror(errno));
  return 1;
}

std::string Human(int64_t bytes) {
  char out[32];
  if (bytes >= int64_t{1} << 20) {
    std::snprintf(out, sizeof(out), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  } else {
    std::snprintf(out, sizeof(out), "%.1f KiB", static_cast<double>(bytes) / 1024);
  }
  return out;
}

int Import(admin_v1::Images::Stub& stub, const std::string& path) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return FileFailed("open", path);
  }
  grpc::ClientContext ctx;
  admin_v1::ImportImagesResponse resp;
  auto writer = stub.Import(&ctx, &resp);
  std::string buffer(kChunkBytes, '\0');
  admin_v1::ImportImagesRequest req;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      ctx.TryCancel();
      return FileFailed("read", path);
    }
    if (n == 0) {
      break;
    }
    req.set_chunk(buffer.data(), static_cast<size_t>(n));
    if (!writer->Write(req)) {
      break;  // cricketd refused the archive already: Finish says why
    }
  }
  if (fd != STDIN_FILENO) {
    ::close(fd);
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    return Failed(status);
  }
  for (const auto& image : resp.images()) {
    std::printf("imported %s %s\n", image.id().c_str(),
                image.repo_tags().empty() ? "<untagged>" : image.repo_tags(0).c_str());
  }
  return 0;
}

int Export(admin_v1::Images::Stub& stub, const std::string& ref, const std::string& path) {
  const bool to_stdout = path == "-";
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = to_stdout ? STDOUT_FILENO
                     : ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return FileFailed("create", tmp);
  }
  grpc::ClientContext ctx;
  admin_v1::ExportImageRequest req;
  req.set_image(ref);
  auto reader = stub.Export(&ctx, req);
  admin_v1::ExportImageChunk chunk;
  bool write_failed = false;
  while (!write_failed && reader->Read(&chunk)) {
    const std::string& data = chunk.chunk();
    for (size_t done = 0; done < data.size();) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        write_failed = true;
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  if (write_failed) {
    int saved = errno;
    ctx.TryCancel();
    (void)reader->Finish();
    errno = saved;
    if (!to_stdout) {
      ::unlink(tmp.c_str());
    }
    return FileFailed("write", to_stdout ? "stdout" : tmp);
  }
  grpc::Status status = reader->Finish();
  if (to_stdout) {
    return status.ok() ? 0 : Failed(status);
  }
  if (!status.ok() || ::fsync(fd) < 0 || ::close(fd) < 0 ||
      ::rename(tmp.c_str(), path.c_str()) < 0) {
    ::unlink(tmp.c_str());
    return status.ok() ? FileFailed("write", path) : Failed(status);
  }
  return 0;
}

// Progress as lines: redrawn in place on a terminal, appended once per finished layer otherwise.
class PullPrinter {
 public:
  explicit PullPrinter(bool tty) : tty_(tty) {}

  void Show(const admin_v1::PullImageProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (tty_ && drawn_ > 0) {
      std::printf("\033[%dA", drawn_);  // back to the first layer line
    }
    for (const auto& layer : p.layers()) {
      Seen& seen = seen_[layer.digest()];
      double seconds = std::chrono::duration<double>(now - seen.at).count();
      if (seen.at.time_since_epoch().count() != 0 && seconds > 0 &&
          layer.fetched_bytes() > seen.bytes) {
        seen.rate = static_cast<double>(layer.fetched_bytes() - seen.bytes) / seconds;
      }
      seen.at = now;
      seen.bytes = layer.fetched_bytes();
      std::string digest = layer.digest().substr(0, 19);
      if (tty_) {
        std::printf(
            "\033[2K%s  %s / %s  %s\n", digest.c_str(), Human(layer.fetched_bytes()).c_str(),
            Human(layer.size_bytes()).c_str(),
            layer.done() ? "done" : (Human(static_cast<int64_t>(seen.rate)) + "/s").c_str());
      } else if (layer.done() && !seen.reported) {
        std::printf("%s  %s  done\n", digest.c_str(), Human(layer.size_bytes()).c_str());
      }
      seen.reported = seen.reported || layer.done();
    }
    drawn_ = tty_ ? p.layers_size() : 0;
    std::fflush(stdout);
  }

 private:
  struct Seen {
    std::chrono::steady_clock::time_point at{};
    int64_t bytes = 0;
    double rate = 0;
    bool reported = false;
  };
  bool tty_;
  int drawn_ = 0;
  std::map<std::string, Seen> seen_;
};

int Pull(admin_v1::Images::Stub& stub, const std::string& ref) {
  grpc::ClientContext ctx;
  admin_v1::PullImageRequest req;
  req.set_image(ref);
  auto reader = stub.Pull(&ctx, req);
  PullPrinter printer(::isatty(STDOUT_FILENO) == 1);
  admin_v1::PullImageProgress progress;
  std::string id;
  while (reader->Read(&progress)) {
    if (progress.has_image()) {
      id = progress.image().id();
    } else {
      printer.Show(progress);
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return Failed(status);
  }
  std::printf("pulled %s as %s\n", ref.c_str(), id.c_str());
  return 0;
}

}  // namespace

int ImagesCommand(const std::string& socket, const std::vector<std::string>& args) {
  const std::string verb = args.empty() ? "" : args[0];
  const bool ok = (verb == "import" && args.size() == 2) ||
                  (verb == "export" && args.size() == 3) || (verb == "pull" && args.size() == 2);
  if (!ok) {
    std::fprintf(stderr,
                 "usage: cricketctl [--socket PATH] images import FILE|-\n"
                 "       cricketctl [--socket PATH] images export REF FILE|-\n"
                 "       cricketctl [--socket PATH] images pull REF\n");
    return 2;
  }
  auto stub = admin_v1::Images::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  if (verb == "import") {
    return Import(*stub, args[1]);
  }
  if (verb == "export") {
    return Export(*stub, args[1], args[2]);
  }
  return Pull(*stub, args[1]);
}

}  // namespace cricket::cri
