"""Sign-up; login and logout are Django's own views with our templates."""

from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and log in; uploads made so far in this session move to it."""
    form = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)  # fires user_logged_in, which claims the anonymous uploads
        return redirect("history")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)
