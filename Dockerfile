# The image a Dagster deployment runs toolloom's steps in (execution.executor: k8s): the package with the
# scale-out and Kubernetes extras, the project folder (pipelines, prompts, sandbox, collections, the code
# location), bubblewrap and libseccomp for the tool sandbox, and the Node tools (mock server, MCP servers).
# Build:  docker build -t registry.internal/toolloom:0.9 .
# The pods need the securityContext the sandbox asks for (README: Running at scale, Kubernetes); toolloom
# sets it by default through execution.k8s.security_context.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap libseccomp2 nodejs npm git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/toolloom
# the package first: its layer is rebuilt only when the code or its dependencies change
COPY pyproject.toml README.md ./
COPY toolloom ./toolloom
RUN pip install --no-cache-dir ".[scale,k8s,mcp-servers]"
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY pipelines ./pipelines
COPY prompts ./prompts
COPY sandbox ./sandbox
COPY api_graphs ./api_graphs
COPY assets ./assets
COPY workspace.yaml ./

CMD ["dagster", "api", "grpc", "--host", "0.0.0.0", "--port", "4000", "--python-file", "assets/definitions.py"]
