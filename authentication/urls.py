from django.urls import path

from authentication import views

app_name = "authentication"

urlpatterns = [
    path("register", views.RegisterView.as_view(), name="register"),
    path("verify-email", views.VerifyEmailView.as_view(), name="verify-email"),
    path("resend-verification", views.ResendVerificationView.as_view(), name="resend"),
    path("password-reset", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/confirm",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path("login", views.LoginView.as_view(), name="login"),
    path("logout", views.LogoutView.as_view(), name="logout"),
    path("logout-everywhere", views.LogoutEverywhereView.as_view(), name="logout-everywhere"),
    path("me", views.MeView.as_view(), name="me"),
]
