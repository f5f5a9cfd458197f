// SystemdBus over sd-bus (libsystemd, shared: Debian has no archive of it). Only cricketd links
// this file (library oci_systemd): cricket-runtime and cricket-shim are static.

#include <dlfcn.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>

#include "oci/systemd_bus.h"

namespace cricket::oci {
namespace {

// libsystemd is loaded when the systemd driver is first used, not linked: a cricketd on the
// cgroupfs driver maps none of it (libsystemd pulls in libgcrypt, liblzma, libzstd, liblz4 and
// libcap, each costing resident pages at start-up, and the latter two would meet the archives
// cricketd links statically). RTLD_LOCAL keeps its symbols to itself.
#define CRICKET_SD_BUS_FUNCTIONS(X) \
  X(new)                            \
  X(set_address)                    \
  X(start)                          \
  X(unref)                          \
  X(open_system)                    \
  X(flush_close_unref)              \
  X(message_new_method_call)        \
  X(message_append)                 \
  X(message_open_container)         \
  X(message_append_basic)           \
  X(message_append_array)           \
  X(message_close_container)        \
  X(message_unref)                  \
  X(call)                           \
  X(call_method)                    \
  X(message_read)                   \
  X(get_property_string)            \
  X(error_free)

struct SdApi {
#define CRICKET_SD_MEMBER(name) decltype(&::sd_bus_##name) name##_ = nullptr;
  CRICKET_SD_BUS_FUNCTIONS(CRICKET_SD_MEMBER)
#undef CRICKET_SD_MEMBER
};

SdApi g_sd;  // filled once by LoadSdApi, read-only afterwards

const SdApi& Sd() { return g_sd; }

Result<void> LoadSdApi() {
  static Result<void> loaded = []() -> Result<void> {
    void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      return Error(Code::kUnavailable, std::string("load libsystemd.so.0 (Debian package "
                                                   "libsystemd0): ") +
                                           ::dlerror());
    }
#define CRICKET_SD_LOAD(name)                                                                 \
  g_sd.name##_ = reinterpret_cast<decltype(&::sd_bus_##name)>(::dlsym(lib, "sd_bus_" #name)); \
  if (g_sd.name##_ == nullptr) {                                                              \
    return Error(Code::kUnavailable, "libsystemd.so.0 lacks sd_bus_" #name);                  \
  }
    CRICKET_SD_BUS_FUNCTIONS(CRICKET_SD_LOAD)
#undef CRICKET_SD_LOAD
    return Ok();
  }();
  return loaded;
}

constexpr const char* kDestination = "org.freedesktop.systemd1";
constexpr const char* kManagerPath = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr uint64_t kCallTimeoutUs = 25'000'000;  // sd-bus's own default for method calls
constexpr auto kPollInterval = std::chrono::milliseconds(5);

struct MessageUnref {
  void operator()(sd_bus_message* m) const { Sd().message_unref_(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;

// An sd_bus_error freed on scope exit.
struct BusError {
  // SD_BUS_ERROR_NULL spelled in C++: the macro is a C99 compound literal, which clang refuses
  // under -Wpedantic.
  sd_bus_error e{nullptr, nullptr, 0};
  BusError() = default;
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  ~BusError() { Sd().error_free_(&e); }
};

Error ToError(int r, const BusError& error, const std::string& what) {
  std::string name = error.e.name != nullptr ? error.e.name : "";
  std::string detail = error.e.message != nullptr ? error.e.message : "";
  if (name == "org.freedesktop.systemd1.NoSuchUnit") {
    return Error(Code::kNotFound, what + ": " + detail);
  }
  if (name == "org.freedesktop.systemd1.UnitExists") {
    return Error(Code::kAlreadyExists, what + ": " + detail);
  }
  if (name.empty()) {
    return Error::FromErrno(-r, what);
  }
  return Error(Code::kInternal, what + ": " + name + ": " + detail);
}

int AppendValue(sd_bus_message* m, const UnitProperty::Value& value) {
  return std::visit(
      [m](const auto& v) -> int {
        using T = std::decay_t<decltype(v)>;
        int r = 0;
        if constexpr (std::is_same_v<T, bool>) {
          int b = v ? 1 : 0;
          if ((r = Sd().message_open_container_(m, 'v', "b")) < 0 ||
              (r = Sd().message_append_basic_(m, 'b', &b)) < 0) {
            return r;
          }
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if ((r = Sd().message_open_container_(m, 'v', "t")) < 0 ||
              (r = Sd().message_append_basic_(m, 't', &v)) < 0) {
            return r;
          }
        } else if constexpr (std::is_same_v<T, std::string>) {
          if ((r = Sd().message_open_container_(m, 'v', "s")) < 0 ||
              (r = Sd().message_append_basic_(m, 's', v.c_str())) < 0) {
            return r;
          }
        } else if constexpr (std::is_same_v<T, std::vector<uint32_t>>) {
          if ((r = Sd().message_open_container_(m, 'v', "au")) < 0 ||
              (r = Sd().message_append_array_(m, 'u', v.data(), v.size() * sizeof(uint32_t))) < 0) {
            return r;
          }
        } else {
          if ((r = Sd().message_open_container_(m, 'v', "ay")) < 0 ||
              (r = Sd().message_append_array_(m, 'y', v.data(), v.size())) < 0) {
            return r;
          }
        }
        return Sd().message_close_container_(m);
      },
      value);
}

// a(sv)
int AppendProperties(sd_bus_message* m, const std::vector<UnitProperty>& properties) {
  int r = Sd().message_open_container_(m, 'a', "(sv)");
  for (const auto& p : properties) {
    if (r < 0 || (r = Sd().message_open_container_(m, 'r', "sv")) < 0 ||
        (r = Sd().message_append_basic_(m, 's', p.name.c_str())) < 0 ||
        (r = AppendValue(m, p.value)) < 0 || (r = Sd().message_close_container_(m)) < 0) {
      return r;
    }
  }
  return r < 0 ? r : Sd().message_close_container_(m);
}

class SdBus final : public SystemdBus {
 public:
  explicit SdBus(sd_bus* bus) : bus_(bus) {}
  ~SdBus() override { Sd().flush_close_unref_(bus_); }
  SdBus(const SdBus&) = delete;
  SdBus& operator=(const SdBus&) = delete;

  Result<void> StartTransientUnit(const std::string& unit,
                                  const std::vector<UnitProperty>& properties,
                                  std::chrono::milliseconds timeout) override {
    {
      std::lock_guard lock(mu_);
      CR_ASSIGN_OR_RETURN(Message m, NewCall("StartTransientUnit"));
      int r = Sd().message_append_(m.get(), "ss", unit.c_str(), "fail");
      if (r >= 0) {
        r = AppendProperties(m.get(), properties);
      }
      if (r >= 0) {
        r = Sd().message_append_(m.get(), "a(sa(sv))", 0);  // no auxiliary units
      }
      if (r < 0) {
        return Error::FromErrno(-r, "build StartTransientUnit " + unit);
      }
      CR_RETURN_IF_ERROR(Call(m.get(), "start unit " + unit));
    }
    return WaitFor(unit, timeout, /*stopping=*/false);
  }

  Result<void> SetUnitProperties(const std::string& unit,
                                 const std::vector<UnitProperty>& properties) override {
    std::lock_guard lock(mu_);
    CR_ASSIGN_OR_RETURN(Message m, NewCall("SetUnitProperties"));
    int r = Sd().message_append_(m.get(), "sb", unit.c_str(), 1);  // runtime: not persisted
    if (r >= 0) {
      r = AppendProperties(m.get(), properties);
    }
    if (r < 0) {
      return Error::FromErrno(-r, "build SetUnitProperties " + unit);
    }
    return Call(m.get(), "set properties of unit " + unit);
  }

  Result<void> StopUnit(const std::string& unit, std::chrono::milliseconds timeout) override {
    {
      std::lock_guard lock(mu_);
      CR_ASSIGN_OR_RETURN(Message m, NewCall("StopUnit"));
      if (int r = Sd().message_append_(m.get(), "ss", unit.c_str(), "replace"); r < 0) {
        return Error::FromErrno(-r, "build StopUnit " + unit);
      }
      auto stopped = Call(m.get(), "stop unit " + unit);
      if (!stopped.ok()) {
        return stopped.error().code() == Code::kNotFound ? Ok() : stopped;
      }
    }
    return WaitFor(unit, timeout, /*stopping=*/true);
  }

  Result<std::string> ActiveState(const std::string& unit) override {
    std::lock_guard lock(mu_);
    BusError error;
    sd_bus_message* reply = nullptr;
    int r = Sd().call_method_(bus_, kDestination, kManagerPath, kManager, "GetUnit", &error.e,
                              &reply, "s", unit.c_str());
    if (r < 0) {
      return ToError(r, error, "get unit " + unit);
    }
    Message owned(reply);
    const char* path = nullptr;
    if ((r = Sd().message_read_(reply, "o", &path)) < 0) {
      return Error::FromErrno(-r, "read GetUnit reply for " + unit);
    }
    char* state = nullptr;
    r = Sd().get_property_string_(bus_, kDestination, path, "org.freedesktop.systemd1.Unit",
                                  "ActiveState", &error.e, &state);
    if (r < 0) {
      return ToError(r, error, "ActiveState of unit " + unit);
    }
    std::string out(state);
    free(state);  // NOLINT(cppcoreguidelines-no-malloc): sd-bus allocated it with malloc
    return out;
  }

 private:
  Result<Message> NewCall(const char* method) {
    sd_bus_message* m = nullptr;
    int r = Sd().message_new_method_call_(bus_, &m, kDestination, kManagerPath, kManager, method);
    if (r < 0) {
      return Error::FromErrno(-r, std::string("new D-Bus call ") + method);
    }
    return Message(m);
  }

  Result<void> Call(sd_bus_message* m, const std::string& what) {
    BusError error;
    sd_bus_message* reply = nullptr;
    int r = Sd().call_(bus_, m, kCallTimeoutUs, &error.e, &reply);
    Message owned(reply);
    if (r < 0) {
      return ToError(r, error, what);
    }
    return Ok();
  }

  // Polls ActiveState until the job's outcome shows: active (start), or gone/inactive (stop).
  // A failed unit is unloaded (ResetFailedUnit) so its name can be used again.
  Result<void> WaitFor(const std::string& unit, std::chrono::milliseconds timeout, bool stopping) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last = "unknown";
    while (true) {
      auto state = ActiveState(unit);
      if (!state.ok() && state.error().code() == Code::kNotFound) {
        if (stopping) {
          return Ok();
        }
        return Error(Code::kFailedPrecondition, "unit " + unit + " vanished while starting");
      }
      CR_RETURN_IF_ERROR(state);
      last = *state;
      if (!stopping && last == "active") {
        return Ok();
      }
      if (stopping && last == "inactive") {
        return Ok();
      }
      if (last == "failed") {
        std::lock_guard lock(mu_);
        BusError error;
        (void)Sd().call_method_(bus_, kDestination, kManagerPath, kManager, "ResetFailedUnit",
                                &error.e, nullptr, "s", unit.c_str());
        if (stopping) {
          return Ok();
        }
        return Error(Code::kFailedPrecondition, "unit " + unit + " failed to start");
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        return Error(Code::kDeadlineExceeded, "unit " + unit + " still " + last + " after " +
                                                  std::to_string(timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }

  std::mutex mu_;
  sd_bus* bus_;  // Guarded by mu_.
};

}  // namespace

Result<std::unique_ptr<SystemdBus>> NewSdBus() {
  CR_RETURN_IF_ERROR(LoadSdApi());
  // systemd's own socket first (root only, and there without a dbus-daemon, as on a minimal
  // node), then the system bus.
  sd_bus* bus = nullptr;
  int r = Sd().new_(&bus);
  if (r >= 0 && (r = Sd().set_address_(bus, "unix:path=/run/systemd/private")) >= 0) {
    r = Sd().start_(bus);
  }
  if (r < 0) {
    Sd().unref_(bus);
    bus = nullptr;
    r = Sd().open_system_(&bus);
  }
  if (r < 0) {
    return Error(Code::kUnavailable, std::string("connect to systemd (/run/systemd/private, then "
                                                 "the system bus): ") +
                                         std::strerror(-r));
  }
  return std::unique_ptr<SystemdBus>(std::make_unique<SdBus>(bus));
}

}  // namespace cricket::oci
