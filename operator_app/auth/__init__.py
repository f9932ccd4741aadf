"""Authentication pages: home, login, logout, signup, password change, invitation acceptance, language."""
