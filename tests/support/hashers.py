"""A password hasher that counts its calls, to show two code paths hash alike. Fast
(one PBKDF2 iteration): it is for counting, not for security."""

from typing import ClassVar

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class CountingHasher(PBKDF2PasswordHasher):
    algorithm = "counting_pbkdf2"
    iterations = 1
    calls = 0

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        type(self).calls += 1
        return super().encode(password, salt, iterations)


class CountingArgon2Hasher:
    """The production Argon2id hasher, counting what it computes and with which
    parameters: to show an unknown account costs what a known one does."""

    calls: ClassVar[list[tuple[str, int, int, int]]] = []

    @classmethod
    def build(cls):
        from remosphere.hashers import Argon2idPasswordHasher

        class Counting(Argon2idPasswordHasher):
            def encode(self, password: str, salt: str) -> str:
                cls.calls.append(("encode", self.memory_cost, self.time_cost, self.parallelism))
                return super().encode(password, salt)

            def verify(self, password: str, encoded: str) -> bool:
                params = self.decode(encoded)
                cls.calls.append(
                    ("verify", params["memory_cost"], params["time_cost"], params["parallelism"])
                )
                return super().verify(password, encoded)

        return Counting


CountingArgon2 = CountingArgon2Hasher.build()
