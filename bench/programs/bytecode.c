// A bytecode interpreter loop: a small stack machine (switch dispatch, 64-bit values, 8
// registers) runs a hand-assembled program that sums Collatz sequence lengths. One unit runs
// it over 100 consecutive starting numbers; the first unit is checked against plain C.
#include "bench_common.h"

enum { PUSH, LOAD, STORE, ADD, MUL, AND, SHR, LT, JZ, JMP, HALT };

// Addresses are cell indexes; each line's comment gives the index of its first cell.
static const int64_t program[] = {
    LOAD, 0, LOAD, 1, LT, JZ, 73,                          //  0 loop_n: if !(n < end) -> done
    LOAD, 0, STORE, 3, PUSH, 0, STORE, 4,                  //  7 x = n; steps = 0
    PUSH, 1, LOAD, 3, LT, JZ, 57,                          // 15 loop_x: if !(1 < x) -> end_x
    LOAD, 3, PUSH, 1, AND, JZ, 41,                         // 22 if !(x & 1) -> even
    LOAD, 3, PUSH, 3, MUL, PUSH, 1, ADD, STORE, 3, JMP, 48, // 29 x = 3x + 1; -> cont
    LOAD, 3, PUSH, 1, SHR, STORE, 3,                       // 41 even: x >>= 1
    LOAD, 4, PUSH, 1, ADD, STORE, 4, JMP, 15,              // 48 cont: steps++; -> loop_x
    LOAD, 2, LOAD, 4, ADD, STORE, 2,                       // 57 end_x: total += steps
    LOAD, 0, PUSH, 1, ADD, STORE, 0, JMP, 0,               // 64 n++; -> loop_n
    HALT};                                                 // 73 done

static int64_t run(int64_t start, int64_t end) {
  static int64_t stack[64];
  int64_t reg[8] = {start, end, 0, 0, 0, 0, 0, 0};
  size_t sp = 0, pc = 0;
  for (;;) {
    int64_t op = program[pc++];
    switch (op) {
      case PUSH: stack[sp++] = program[pc++]; break;
      case LOAD: stack[sp++] = reg[program[pc++]]; break;
      case STORE: reg[program[pc++]] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case AND: sp--; stack[sp - 1] &= stack[sp]; break;
      case SHR: sp--; stack[sp - 1] >>= stack[sp]; break;
      case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case JZ: {
        int64_t target = program[pc++];
        if (stack[--sp] == 0) pc = (size_t)target;
        break;
      }
      case JMP: pc = (size_t)program[pc]; break;
      case HALT: return reg[2];
      default: bench_fail("bytecode", "bad opcode");
    }
    if (sp >= 60 || pc >= sizeof program / sizeof program[0]) bench_fail("bytecode", "vm fault");
  }
}

static int64_t collatz_total(int64_t start, int64_t end) {
  int64_t total = 0;
  for (int64_t n = start; n < end; n++)
    for (int64_t x = n; x > 1; x = (x & 1) ? 3 * x + 1 : x >> 1) total++;
  return total;
}

int main(int argc, char** argv) {
  int64_t scale = bench_scale(argc, argv);
  uint64_t sum = 0;
  for (int64_t unit = 0; unit < scale; unit++) {
    int64_t start = 1 + unit * 100;
    int64_t total = run(start, start + 100);
    if (unit == 0 && total != collatz_total(start, start + 100))
      bench_fail("bytecode", "interpreted result differs from C");
    sum = bench_mix(sum, (uint64_t)total);
  }
  return bench_report("bytecode", scale, sum);
}
