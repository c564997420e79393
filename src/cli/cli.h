#pragma once

#include <string>

#include "wasmcap/error.h"
#include "wasmcap/wasi.h"

namespace wasmcap::cli {

// A --dir value (policy::parse_dir_grant; errors name the flag).
Result<Preopen> parse_dir_spec(const std::string& spec);

// A --env value (policy::parse_env_grant; errors name the flag).
Result<std::pair<std::string, std::string>> parse_env_spec(const std::string& spec);

int main(int argc, char** argv);

}  // namespace wasmcap::cli
