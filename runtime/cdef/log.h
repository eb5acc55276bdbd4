/* Logging: llama.cpp and ggml messages are routed to Python's logging module. */
enum ggml_log_level {
    GGML_LOG_LEVEL_NONE, GGML_LOG_LEVEL_DEBUG, GGML_LOG_LEVEL_INFO,
    GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR, GGML_LOG_LEVEL_CONT, ...
};
typedef void (*ggml_log_callback)(enum ggml_log_level level, const char * text, void * user_data);
void llama_log_set(ggml_log_callback log_callback, void * user_data);
void ggml_log_set(ggml_log_callback log_callback, void * user_data);
extern "Python" void _llmrt_log(enum ggml_log_level level, const char * text, void * user_data);
