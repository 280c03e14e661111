# lstm-viz: the Streamlit app with the shipped models baked in, on CPU-only PyTorch.
# BASE is a Debian-based image: python:3.11-slim by default, or a bare Debian bookworm (which has no
# Python: Debian's own python3, 3.11, is installed into it).
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app

# The packages go to a virtual environment: Debian's python3 refuses pip installs into the system.
RUN if ! command -v python3 >/dev/null; then \
      apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && python3 -m venv /opt/venv \
 && useradd --create-home --uid 10001 app

# CPU build of torch from PyTorch's own CPU wheel index (the default one pulls several GB of CUDA).
COPY requirements.txt .
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0+cpu" \
 && grep -v '^torch==' requirements.txt > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# The code and models stay root's: the app only writes under /tmp.
COPY .streamlit/ .streamlit/
COPY lstm_viz/ lstm_viz/
COPY ui/ ui/
COPY pages/ pages/
COPY pretrained/ pretrained/
COPY app.py .

USER app

# Where the app listens (Streamlit reads these variables): `-e STREAMLIT_SERVER_PORT=...` moves it.
ENV STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os, sys, urllib.request; url = f'http://127.0.0.1:{os.environ[\"STREAMLIT_SERVER_PORT\"]}/_stcore/health'; sys.exit(urllib.request.urlopen(url, timeout=4).status != 200)"

CMD ["python", "-m", "streamlit", "run", "app.py"]
