#include "clients/bench/stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace relais::bench {

process_usage usage_of(int pid) {
    process_usage u;
    if (pid <= 0) {
        return u;
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (std::getline(stat, line)) {
        // Fields after the command name, which may hold spaces: utime is the
        // 14th field of the line, stime the 15th.
        std::istringstream rest(line.substr(line.rfind(')') + 2));
        std::string field;
        unsigned long long utime = 0, stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
            if (i == 14) {
                utime = std::stoull(field);
            } else if (i == 15) {
                stime = std::stoull(field);
            }
        }
        u.cpu_seconds =
            static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            u.rss_mib = std::stod(line.substr(6)) / 1024.0;
        } else if (line.rfind("VmHWM:", 0) == 0) {
            u.peak_rss_mib = std::stod(line.substr(6)) / 1024.0;
        }
    }
    return u;
}

process_usage start_usage(int pid) {
    bool reset = false;
    if (pid > 0) {
        // "5" resets the peak resident set size (proc(5), clear_refs).
        std::ofstream clear_refs("/proc/" + std::to_string(pid) + "/clear_refs");
        reset = static_cast<bool>(clear_refs << "5" << std::flush);
    }
    auto u = usage_of(pid);
    u.peak_reset = reset;
    return u;
}

double own_cpu_seconds() {
    rusage r{};
    getrusage(RUSAGE_SELF, &r);
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

}  // namespace relais::bench
