/* Types shared by every area. Only the symbols llmrt calls are declared. */
typedef int32_t llama_pos;
typedef int32_t llama_token;
typedef int32_t llama_seq_id;

struct llama_vocab;
struct llama_model;
struct llama_context;
struct llama_sampler;
typedef struct llama_memory_i * llama_memory_t;

typedef struct ggml_backend_reg * ggml_backend_reg_t;
typedef struct ggml_backend_device * ggml_backend_dev_t;
typedef struct ggml_backend * ggml_backend_t;
typedef struct ggml_backend_buffer_type * ggml_backend_buffer_type_t;
typedef struct ggml_backend_buffer * ggml_backend_buffer_t;

typedef bool (*ggml_abort_callback)(void * data);
typedef bool (*llama_progress_callback)(float progress, void * user_data);

enum ggml_type {
    GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_Q4_0, GGML_TYPE_Q4_1, GGML_TYPE_Q8_0,
    GGML_TYPE_Q4_K, GGML_TYPE_Q6_K, GGML_TYPE_BF16, ...
};

/* llmrt's own C helpers, defined in build_ffi.py's set_source */
const char * llmrt_build_commit(void);
bool llmrt_abort_if_flag(void * flag);
int32_t llmrt_argmax_logits(struct llama_context * ctx, int32_t idx, int32_t n_vocab);
int32_t llmrt_logprobs(struct llama_context * ctx, int32_t idx, int32_t n_vocab, int32_t token,
                       int32_t k, int32_t * top_ids, float * top_lp, float * token_lp);
