/* wasmcap: forced include for patch (after compat.h and gzip.h). wasi-libc has no getegid()
   (patch's common.h makes a missing geteuid() -1 itself): 0, the group wasi-libc reports for
   every file. Changing owners is refused with EPERM (patches/patch/03-no-owners.patch). */
static inline unsigned int getegid(void) { return 0; }
