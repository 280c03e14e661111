# lstm-viz: the Streamlit app with the shipped models baked in, on CPU-only PyTorch.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# CPU build of torch from PyTorch's own CPU wheel index (the default one pulls several GB of CUDA).
COPY requirements.txt .
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0+cpu" \
 && grep -v '^torch==' requirements.txt > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

COPY .streamlit/ .streamlit/
COPY lstm_viz/ lstm_viz/
COPY ui/ ui/
COPY pages/ pages/
COPY pretrained/ pretrained/
COPY app.py .

RUN useradd --create-home --uid 10001 app && chown -R app:app /app
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"

CMD ["python", "-m", "streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0"]
