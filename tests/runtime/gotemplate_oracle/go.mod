module llmrt.invalid/gotemplate_oracle

go 1.19
