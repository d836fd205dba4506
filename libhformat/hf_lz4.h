/*
 * hf_lz4.h - the LZ4 block calls the delta code makes (FORMAT.md §8.4),
 * under the library's prefix.  The Makefile links liblz4's block code into
 * hf_lz4.o and makes every LZ4 symbol in it local (BUNDLE_LZ4), so a
 * program linked with libhformat.a or libhformat.so needs no -llz4, loads
 * no liblz4.so at exec, and cannot clash with an LZ4 it links itself.
 * Not installed.
 */
#ifndef HF_LZ4_H
#define HF_LZ4_H

/* LZ4_MAX_INPUT_SIZE: the largest block LZ4 compresses (§8.4, R-DLT-11). */
#define HF_LZ4_MAX_INPUT 0x7E000000

/* Largest compressed size of len bytes (0 when len is out of range). */
int hf_lz4_bound(int len);

/* LZ4HC at its highest level into dst of cap bytes: the compressed size,
 * or 0 when it does not fit. */
int hf_lz4_compress_max(const char *src, char *dst, int len, int cap);

/* Decodes one block of len bytes into dst of cap bytes: the decoded size,
 * or < 0 on a malformed block; never reads or writes out of bounds. */
int hf_lz4_decompress(const char *src, char *dst, int len, int cap);

#endif
