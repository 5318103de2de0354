from __future__ import annotations

import enum


class Role(enum.StrEnum):
    operator = "operator"
    supervisor = "supervisor"
    specialist = "specialist"
    manager = "manager"
    admin = "admin"

    @property
    def label_ja(self) -> str:
        return ROLE_LABELS_JA[self]


ROLE_LABELS_JA: dict[Role, str] = {
    Role.operator: "オペレーター",
    Role.supervisor: "SV・リーダー",
    Role.specialist: "専門部署",
    Role.manager: "センター長・管理者",
    Role.admin: "システム管理者",
}


class Department(enum.StrEnum):
    legal = "法務"
    pr = "広報"
    quality = "品質保証"
    engineering = "技術"
    accounting = "経理"
    hr = "人事"
    customer_relations = "お客様相談室"
    executive = "経営"
