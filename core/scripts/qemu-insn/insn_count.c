/* Counts the guest instructions an aarch64 program executes under qemu-user 10 (TCG plugin
 * API v4), exactly, with any number of guest threads: a deterministic cost figure for code
 * that runs on phones, measured on an x86 machine (core/scripts/aarch64-insn.sh). It is not
 * time: a NEON `fmla` and a scalar `add` count one each; caches are not modelled.
 *
 * Build against the qemu source's header (the benchmark script does):
 *   cc -shared -fPIC -O2 -I QEMU_SRC/include/qemu $(pkg-config --cflags glib-2.0) \
 *      -o libinsn_count.so insn_count.c
 * Use: qemu-aarch64 -d plugin -plugin ./libinsn_count.so[,mark=NAME][,hist=FILE] PROGRAM
 *   prints `insns N` (to qemu's log, stderr with -d plugin) when the program exits;
 *   mark=NAME  also prints `mark LABEL N` each time a function whose symbol contains NAME is
 *              entered, LABEL being its first argument (x0) and N the count so far: the
 *              SDK's profile calls `efficientformer::model::profile::instruction_mark` after
 *              each layer, so the differences are the instructions of each layer;
 *   hist=FILE  writes `INSTRUCTIONS SYMBOL` to FILE for each function of the main program
 *              (its mangled symbol; `?` for code outside it: the C library, ld.so), booked to
 *              the function where each translated block starts;
 *   from=N,to=M (with mark= and hist= or blocks=) books to FILE only the instructions between
 *              the N-th and the M-th mark after each 0xFFFF mark (a profiled pass's start;
 *              itself the 0th): e.g. from=0,to=1 is the stem, the layer the first mark ends;
 *   blocks=FILE writes `INSTRUCTIONS ADDRESS LENGTH SYMBOL` to FILE for each translated block
 *              that ran (its guest address in hex, its instruction count): `objdump` at that
 *              address less the program's load base (a function's first block less its `nm`
 *              address) shows the code the instructions went to; a block translated twice
 *              appears twice (sum by address).
 * Derived from ../../../shared/tools/qemu-insn/insn_count_v4.c (the team's counter). */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static struct qemu_plugin_scoreboard *board;
static qemu_plugin_u64 executed;

static const char *mark_name;
static struct qemu_plugin_register *x0;
static GMutex lock;
static GString *marks;
/* from=/to=: marks since the last 0xFFFF mark, and whether blocks are booked now. */
static int window, window_from, window_to, marks_since_start = 1 << 30;
static volatile int booking = 1;

static const char *hist_path;
/* Per function: how many instructions ran in the blocks that start in it (updated
 * atomically; keyed by the symbol name qemu returns, a pointer into its symbol table). */
typedef struct {
    const char *symbol;
    uint64_t insns;
} Function;
typedef struct {
    Function *function;
    uint64_t insns;
    uint64_t vaddr;
    uint64_t executed;
} Block;
static GHashTable *functions;
static const char *blocks_path;
static GPtrArray *blocks;

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu) {
    (void)id; (void)vcpu;
    GArray *registers = qemu_plugin_get_registers();
    for (guint i = 0; i < registers->len; i++) {
        qemu_plugin_reg_descriptor *r = &g_array_index(registers, qemu_plugin_reg_descriptor, i);
        if (strcmp(r->name, "x0") == 0) {
            x0 = r->handle;
        }
    }
    g_array_free(registers, TRUE);
}

static void on_mark(unsigned int vcpu, void *userdata) {
    (void)vcpu; (void)userdata;
    GByteArray *value = g_byte_array_new();
    uint64_t label = 0;
    if (x0 && qemu_plugin_read_register(x0, value) >= 4) {
        memcpy(&label, value->data, value->len < 8 ? value->len : 8);
    }
    g_byte_array_free(value, TRUE);
    if (window) {
        marks_since_start = (uint32_t)label == 0xFFFF ? 0 : marks_since_start + 1;
        booking = marks_since_start >= window_from && marks_since_start < window_to;
    }
    g_mutex_lock(&lock);
    g_string_append_printf(marks, "mark %" PRIu32 " %" PRIu64 "\n", (uint32_t)label,
                           qemu_plugin_u64_sum(executed));
    g_mutex_unlock(&lock);
}

static void on_block(unsigned int vcpu, void *userdata) {
    (void)vcpu;
    Block *block = userdata;
    if (!booking) {
        return;
    }
    __atomic_fetch_add(&block->function->insns, block->insns, __ATOMIC_RELAXED);
    __atomic_fetch_add(&block->executed, block->insns, __ATOMIC_RELAXED);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    qemu_plugin_register_vcpu_tb_exec_inline_per_vcpu(tb, QEMU_PLUGIN_INLINE_ADD_U64, executed, n);
    if (mark_name && n > 0) {
        const char *symbol = qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0));
        if (symbol && strstr(symbol, mark_name)) {
            qemu_plugin_register_vcpu_tb_exec_cb(tb, on_mark, QEMU_PLUGIN_CB_R_REGS, NULL);
        }
    }
    if ((hist_path || blocks_path) && n > 0) {
        const char *symbol = qemu_plugin_insn_symbol(qemu_plugin_tb_get_insn(tb, 0));
        if (!symbol) {
            symbol = "?";
        }
        g_mutex_lock(&lock);
        Function *function = g_hash_table_lookup(functions, symbol);
        if (!function) {
            function = g_new0(Function, 1);
            function->symbol = symbol;
            g_hash_table_insert(functions, (gpointer)symbol, function);
        }
        g_mutex_unlock(&lock);
        /* One small allocation per translation, kept to the end (blocks may run until then). */
        Block *block = g_new0(Block, 1);
        block->function = function;
        block->insns = n;
        block->vaddr = qemu_plugin_tb_vaddr(tb);
        if (blocks_path) {
            g_mutex_lock(&lock);
            g_ptr_array_add(blocks, block);
            g_mutex_unlock(&lock);
        }
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, block);
    }
}

static void write_function(gpointer key, gpointer value, gpointer file) {
    (void)key;
    Function *function = value;
    if (function->insns) {
        fprintf(file, "%" PRIu64 " %s\n", function->insns, function->symbol);
    }
}

static void on_exit_cb(qemu_plugin_id_t id, void *userdata) {
    (void)id; (void)userdata;
    if (marks) {
        qemu_plugin_outs(marks->str);
    }
    char line[64];
    snprintf(line, sizeof line, "insns %" PRIu64 "\n", qemu_plugin_u64_sum(executed));
    qemu_plugin_outs(line);
    if (blocks_path) {
        FILE *file = fopen(blocks_path, "w");
        if (file) {
            for (guint i = 0; i < blocks->len; i++) {
                Block *block = g_ptr_array_index(blocks, i);
                if (block->executed) {
                    fprintf(file, "%" PRIu64 " %" PRIx64 " %" PRIu64 " %s\n", block->executed, block->vaddr,
                            block->insns, block->function->symbol);
                }
            }
            fclose(file);
        }
    }
    if (hist_path) {
        FILE *file = fopen(hist_path, "w");
        if (file) {
            g_hash_table_foreach(functions, write_function, file);
            fclose(file);
        }
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "mark=", 5) == 0) {
            mark_name = argv[i] + 5;
        } else if (strncmp(argv[i], "hist=", 5) == 0) {
            hist_path = argv[i] + 5;
        } else if (strncmp(argv[i], "from=", 5) == 0) {
            window = 1;
            window_from = atoi(argv[i] + 5);
        } else if (strncmp(argv[i], "to=", 3) == 0) {
            window = 1;
            window_to = atoi(argv[i] + 3);
        } else if (strncmp(argv[i], "blocks=", 7) == 0) {
            blocks_path = argv[i] + 7;
        } else {
            fprintf(stderr, "insn_count: unknown argument %s\n", argv[i]);
            return -1;
        }
    }
    if (window && !mark_name) {
        fprintf(stderr, "insn_count: from= and to= need mark=\n");
        return -1;
    }
    booking = !window;
    board = qemu_plugin_scoreboard_new(sizeof(uint64_t));
    executed = qemu_plugin_scoreboard_u64(board);
    if (mark_name) {
        marks = g_string_new(NULL);
        qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init);
    }
    if (hist_path || blocks_path) {
        functions = g_hash_table_new(g_str_hash, g_str_equal);
        blocks = g_ptr_array_new();
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
