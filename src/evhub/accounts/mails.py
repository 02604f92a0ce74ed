"""The texts of the mails sent to drivers (plain text: every client shows it)."""

from __future__ import annotations


def verification(name: str, link: str) -> tuple[str, str]:
    return (
        "Confirm your e-mail address",
        f"Hello {name},\n\nconfirm your e-mail address to start charging:\n\n{link}\n\n"
        "If you did not sign up, ignore this mail.\n",
    )


def password_reset(name: str, link: str) -> tuple[str, str]:
    return (
        "Choose a new password",
        f"Hello {name},\n\nchoose a new password here (the link works once, for a short "
        f"while):\n\n{link}\n\nIf you did not ask for it, ignore this mail: your password "
        "stays as it is.\n",
    )


def welcome(
    name: str, plan: str, vehicle: str, contract_id: str, link: str | None
) -> tuple[str, str]:
    access = (
        f"Choose your password to open your account:\n\n{link}\n"
        if link
        else "Sign in with your usual password to see it in your account.\n"
    )
    return (
        "Welcome: your charging pass is ready",
        f"Hello {name},\n\nyour {vehicle} comes with the {plan} plan. Your contract id is "
        f"{contract_id}; the app token works at once, your card is on its way.\n\n{access}",
    )
