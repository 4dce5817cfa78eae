import { useState } from "react";
import { useTranslation } from "react-i18next";

export function LoginForm({ onSubmit }) {
  const { t } = useTranslation();
  const [password, setPassword] = useState(⟦~""⟧);
  const [showPassword, setShowPassword] = useState(false);
  return (
    <form onSubmit={(e) => { e.preventDefault(); onSubmit({ password }); }}>
      <label htmlFor="password">{t("password")}</label>
      <input
        id="password"
        ⟦~type="password"⟧
        name="password"
        autoComplete="current-password"
        ⟦~placeholder="Enter your password"⟧
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <button type="button" onClick={() => setShowPassword(!showPassword)}>{t("showPassword")}</button>
    </form>
  );
}
