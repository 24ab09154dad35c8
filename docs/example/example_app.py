"""A small Raven-protected application: the example of docs/testing.md."""

from flask import Flask

from raven.flask_glue import AuthDecorator

auth = AuthDecorator(desc="The Society's members' area")


def create_app(**config: object) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="change me: a long random string",
        TRUSTED_HOSTS=["members.example-society.org"],
        RAVEN_WLS="live",
    )
    app.config.update(config)

    @app.route("/")
    @auth
    def members() -> str:
        return f"Welcome, {auth.principal}!"

    return app
