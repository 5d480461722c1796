#ifndef TABLE_H
#define TABLE_H

#define TABLE_SIZE 64

struct entry {
    char word[32];
    int count;
};

struct table {
    struct entry entries[TABLE_SIZE];
    int used;
};

void table_add(struct table *t, const char *word);
void table_sort(struct table *t);

#endif
