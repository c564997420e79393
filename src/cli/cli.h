#pragma once

#include <string>

#include "wasmcap/error.h"
#include "wasmcap/wasi.h"

namespace wasmcap::cli {

// Parses a --dir value: HOST[::GUEST][:ro|:rw]. GUEST defaults to HOST.
Result<Preopen> parse_dir_spec(const std::string& spec);

// Parses a --env value: NAME=VALUE (NAME non-empty, no '=' in NAME).
Result<std::pair<std::string, std::string>> parse_env_spec(const std::string& spec);

int main(int argc, char** argv);

}  // namespace wasmcap::cli
