"""Flask extensions, created unbound here and bound in `create_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# No default limits: only sign-in is limited, explicitly, where it happens.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
