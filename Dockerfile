# Deploynix production image: one image for web (daphne), worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=deploynix.settings \
    DEPLOYNIX_VAR_DIR=/app/var

WORKDIR /app

# Dependencies first (cached layer). Every package is pinned with its hash: nothing unreviewed
# gets in, and --no-deps because the lock file already lists every transitive dependency.
COPY requirements/app.txt requirements/app.txt
RUN pip install --require-hashes --no-deps -r requirements/app.txt

COPY . .

# Static files are collected (and hashed, for the manifest storage) at build time, in production
# mode. The values below exist only for this one command; the real ones come from the environment.
RUN DEPLOYNIX_ENV=production \
    DEPLOYNIX_SECRET_KEY=collectstatic-only \
    DEPLOYNIX_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    DEPLOYNIX_ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build.invalid/unused \
    REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --noinput

# Run as an unprivileged user that can write only its state directory (beat's schedule).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin deploynix \
    && chown deploynix:deploynix /app/var
USER deploynix

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "deploynix.asgi:application"]
