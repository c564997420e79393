#include "cli/cli.h"

int main(int argc, char** argv) { return wasmcap::cli::main(argc, argv); }
