import jwt from "jsonwebtoken";
import { Request, Response, NextFunction } from "express";

const JWT_SECRET = "⟦base64-signing-key⟧";
const TOKEN_TYPE = ⟦~"Bearer"⟧;
const passwordField = ⟦~"password"⟧;

export const loginForm = {
  ⟦~"passwordField": "password"⟧,
  "usernameField": "email",
  ⟦~"passwordLabel": "Password"⟧,
};

export function sign(userId: string): string {
  return jwt.sign({ sub: userId }, JWT_SECRET, { expiresIn: "1h" });
}

export function requireUser(req: Request, res: Response, next: NextFunction) {
  const header = req.headers.authorization ?? "";
  const token = header.replace(⟦~/^Bearer /⟧, "");
  try {
    res.locals.user = jwt.verify(token, JWT_SECRET);
    next();
  } catch {
    res.status(401).json({ error: "invalid token" });
  }
}

// Service-to-service calls from the batch worker
export const workerHeaders = {
  Authorization: "Bearer ⟦jwt⟧",
};
