/* A small legacy word-frequency tool; the self-test also checks zlib's CRC-32 of its sample. */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "table.h"

static const char *sample = "the cat and the dog and the bird";

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--self-test") != 0) {
        fprintf(stderr, "usage: wordfreq --self-test\n");
        return 2;
    }
    struct table t = {0};
    char buffer[128];
    strncpy(buffer, sample, sizeof buffer - 1);
    buffer[sizeof buffer - 1] = '\0';
    for (char *word = strtok(buffer, " "); word; word = strtok(NULL, " ")) {
        table_add(&t, word);
    }
    table_sort(&t);
    for (int i = 0; i < t.used; i++) {
        printf("c-app: %-5s %d\n", t.entries[i].word, t.entries[i].count);
    }
    printf("c-app: crc32 %08lx\n", crc32(0L, (const unsigned char *)sample, (unsigned)strlen(sample)));
    return 0;
}
