#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace relais::testing {

// A fresh folder under the system temp dir, removed with the test.
class temp_dir {
  public:
    temp_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "relais-test-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace relais::testing
