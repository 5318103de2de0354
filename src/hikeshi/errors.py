"""The coded error hierarchy, mapped to HTTP in one place (``hikeshi.main``).

HikeshiError
├── AuthenticationRequired   401  auth.required       ログインが必要です
│   └── InvalidCredentials   401  auth.invalid        ID またはパスワードが違います
├── PermissionDenied         403  auth.forbidden      この操作の権限がありません
│   └── CsrfFailed           403  auth.csrf           フォームの有効期限が切れました
├── NotFound                 404  not_found           見つかりません
├── ValidationFailed         422  validation          入力内容に誤りがあります
├── Conflict                 409  conflict            既に存在します / 状態が変わりました
├── RateLimited              429  rate_limited        しばらくしてから再度お試しください
├── AuditRequired            500  audit.actor_missing 監査記録なしの変更は拒否されます
└── DatabaseNotReady         503  db.not_ready        データベースの準備ができていません

The API answers ``{"error": {"code", "message", "fields"}}``; the UI shows ``message_ja``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HikeshiError(Exception):
    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500
    default_ja: ClassVar[str] = "エラーが発生しました"
    default_en: ClassVar[str] = "An error occurred"

    def __init__(
        self,
        message_en: str | None = None,
        *,
        message_ja: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        self.message_en = message_en or self.default_en
        self.message_ja = message_ja or self.default_ja
        self.fields = fields or {}
        super().__init__(self.message_en)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message_en, "fields": self.fields}


class AuthenticationRequired(HikeshiError):
    code = "auth.required"
    http_status = 401
    default_ja = "ログインが必要です"
    default_en = "Authentication required"


class InvalidCredentials(AuthenticationRequired):
    code = "auth.invalid"
    default_ja = "メールアドレスまたはパスワードが違います"
    default_en = "Invalid credentials"


class PermissionDenied(HikeshiError):
    code = "auth.forbidden"
    http_status = 403
    default_ja = "この操作を行う権限がありません"
    default_en = "Permission denied"


class CsrfFailed(PermissionDenied):
    code = "auth.csrf"
    default_ja = "フォームの有効期限が切れました。ページを再読み込みしてください"
    default_en = "CSRF token missing or invalid"


class NotFound(HikeshiError):
    code = "not_found"
    http_status = 404
    default_ja = "見つかりません"
    default_en = "Not found"


class ValidationFailed(HikeshiError):
    code = "validation"
    http_status = 422
    default_ja = "入力内容に誤りがあります"
    default_en = "Validation failed"


class Conflict(HikeshiError):
    code = "conflict"
    http_status = 409
    default_ja = "既に存在するか、状態が変更されています"
    default_en = "Conflict"


class RateLimited(HikeshiError):
    code = "rate_limited"
    http_status = 429
    default_ja = "しばらくしてから再度お試しください"
    default_en = "Too many requests"


class AuditRequired(HikeshiError):
    code = "audit.actor_missing"
    http_status = 500
    default_ja = "監査記録を残せない変更は拒否されました"
    default_en = "Refusing to write business state without an audit actor"


class DatabaseNotReady(HikeshiError):
    code = "db.not_ready"
    http_status = 503
    default_ja = "データベースの準備ができていません"
    default_en = "Database is missing or older than the code"
