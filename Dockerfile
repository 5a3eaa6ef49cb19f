# syntax=docker/dockerfile:1
# Build stage: install the pinned dependencies and the package into a virtualenv.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/passerelle
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
RUN /opt/passerelle/bin/pip install -c constraints.txt .

# Runtime stage: only the virtualenv and the example config, run as a non-root user.
FROM python:3.11-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /var/lib/passerelle --create-home passerelle
COPY --from=build /opt/passerelle /opt/passerelle
COPY config /etc/passerelle
ENV PATH=/opt/passerelle/bin:$PATH \
    PASSERELLE_CONFIG=/etc/passerelle/passerelle.yaml \
    PASSERELLE_DATA_DIR=/var/lib/passerelle \
    PASSERELLE_SERVER__HOST=0.0.0.0 \
    PYTHONUNBUFFERED=1
USER passerelle
WORKDIR /var/lib/passerelle
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"
# Apply migrations, then serve. Mount your config at /etc/passerelle/passerelle.yaml.
CMD ["sh", "-c", "passerelle db upgrade && exec passerelle serve"]
