#include <stdlib.h>
#include <string.h>

#include "table.h"

void table_add(struct table *t, const char *word) {
    for (int i = 0; i < t->used; i++) {
        if (strcmp(t->entries[i].word, word) == 0) {
            t->entries[i].count++;
            return;
        }
    }
    if (t->used < TABLE_SIZE) {
        strncpy(t->entries[t->used].word, word, sizeof t->entries[t->used].word - 1);
        t->entries[t->used].count = 1;
        t->used++;
    }
}

static int by_count_then_word(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    if (x->count != y->count) return y->count - x->count;
    return strcmp(x->word, y->word);
}

void table_sort(struct table *t) {
    qsort(t->entries, t->used, sizeof t->entries[0], by_count_then_word);
}
